"""Country reference data and registry address ranges (not loaded yet)."""
