"""One module per CLI command: argument parsing and printing only; behaviour lives in the library."""
