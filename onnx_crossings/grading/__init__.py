"""Teaching infrastructure: student versions of the chapters and a grader whose verdicts students cannot reach."""
