"""python -m grading: grade a folder of submissions against a chapter."""

from grading.grader import main

main()
