"""The portal: start page, self-study articles and search."""
