"""Classifier work in the viewer: the model pool and jobs (``service``), records and state
(``state``), the controller and its parts, and the AI panel's widgets."""
