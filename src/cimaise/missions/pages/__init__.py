"""Staff pages of the missions app."""
