"""Image views: the one canvas component (LUT, window drag, probe, crosshair, overlay) shared by
the slice view and the plane views, plus layouts, cine, the profile plot and the colour bar."""
