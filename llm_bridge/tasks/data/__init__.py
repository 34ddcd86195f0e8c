"""Example data files for `--task jsonl:PATH` (see `make_sample`)."""
