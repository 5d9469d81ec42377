"""The plumbing under the chapters: where files go, atomic writes, quiet libraries, seeds, devices, installs."""
