"""The catalogue service: importing design folders and reading designs back."""
