"""What the chapters teach with: shared models and training, converters' helpers, runtimes, parity, graphs, plots."""
