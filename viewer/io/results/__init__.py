"""AI results as standard DICOM objects (highdicom) and their read-back; no Qt, no torch."""
