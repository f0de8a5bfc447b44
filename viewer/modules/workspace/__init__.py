"""The reading workspace: layouts, cine, measurements, window presets editor and exports."""
