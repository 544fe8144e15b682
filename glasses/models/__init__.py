"""Model supply: the manifest of model files, their checks, and the offline build."""
