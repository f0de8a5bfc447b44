"""DeviceChoice: where the AI module's models run ("auto", "cpu", "cuda", "mps"), remembered in
the settings and described in the inference panel.

Part of :class:`viewer.modules.ai.controller.AiController` (composition-root code); the description is
read in the JobRunner (:func:`viewer.modules.ai.service.describe_device_job`), never on the GUI thread.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viewer.modules.ai import service as svc

if TYPE_CHECKING:  # the controller composes its parts; typing only, no cycle at run time
    from viewer.modules.ai.controller import AiController


class DeviceChoice:
    """The device of ``ctl``'s (an AiController's) model pool and its description."""

    def __init__(self, ctl: AiController) -> None:
        self.ctl = ctl
        self._described = False

    def set(self, choice: str) -> None:
        """Run models on ``choice`` ("auto", "cpu", "cuda", "mps"), remembered in the settings."""
        ctl = self.ctl
        ctl.settings.setValue("ai/device", choice)
        ctl.pool.set_device(choice)
        ctl.cache.clear()
        self._described = False
        self.describe()

    def describe(self) -> None:
        """Show the device in use; asked once per device choice (after the first model run, when
        the device has been set up), not after every job."""
        if self._described:
            return
        self._described = True
        ctl = self.ctl
        choice = ctl.pool.device
        panel = ctl.panel
        ctl.runner.submit("ai-device", svc.describe_device_job(choice), label="Checking device",
                          on_result=lambda text: panel.set_device(choice, text),
                          on_error=lambda e: panel.set_device(choice, f"unavailable: {e.message}"))
