"""What a person reads: the matrix, readiness, experiment and bench reports, the watch's terminal view
and page, and where they are written."""
