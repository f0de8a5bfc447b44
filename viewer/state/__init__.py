"""Qt objects without widgets: :class:`ViewerState` (the volume and slice on screen), the
crosshair :class:`Navigator`, and the :class:`JobRunner` (QThreadPool) every slow job runs in."""
