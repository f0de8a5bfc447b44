"""Motion and print exports: the cine as MP4 / GIF (opened with imageio: one frame per slice,
time point or plane position) and PDFs of the view and of a montage (opened with pypdf)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.gui_support import open_and_wait

pytestmark = pytest.mark.gui


class _Ctx:
    """Stands in for a JobContext when a job is run in the test's thread."""

    def check(self) -> None:
        pass

    def report(self, value) -> None:
        pass

    def cancelled(self) -> bool:
        return False


def movie_frames(path) -> int:
    """Frames in a movie according to imageio (FFmpeg for MP4, Pillow for GIF)."""
    import imageio.v2 as iio2
    import imageio.v3 as iio

    if str(path).endswith(".mp4"):
        with iio2.get_reader(str(path), format="FFMPEG") as reader:
            return reader.count_frames()
    return int(iio.imread(path, index=None, plugin="pillow").shape[0])


def test_write_movie_frame_counts_and_sizes(tmp_path):
    from viewer.modules.workspace.motion import write_movie

    frames = [np.full((31, 45, 3), 20 * n, np.uint8) for n in range(7)]  # odd size: padded
    assert movie_frames(write_movie(frames, tmp_path / "a.mp4", 10)) == 7
    gif = write_movie(frames, tmp_path / "a.gif", 5)
    assert movie_frames(gif) == 7
    from PIL import Image

    with Image.open(gif) as im:
        assert im.info.get("duration") == 200 and im.info.get("loop") == 0
    with pytest.raises(ValueError, match="mp4 or .gif"):
        write_movie(frames, tmp_path / "a.avi", 5)


def test_frame_lays_the_map_over_by_the_overlay_rule():
    from viewer.core.overlay import OverlayStyle, blend, overlay_rgba, window_to_gray
    from viewer.modules.workspace.motion import CAPTION_PX, Frame, render_frame

    image = np.linspace(0, 100, 16 * 16, dtype=np.float32).reshape(16, 16)
    heat = np.full((16, 16), np.nan, np.float32)
    heat[4:8, 4:8] = 1.0
    style = OverlayStyle("jet", 0.7, 0.2)
    out = render_frame(Frame(image, heat, "slice 1 / 1"), (50.0, 100.0), style, (1.0, 1.0),
                       min_side=16)
    assert out.shape == (16 + CAPTION_PX, 16, 3)
    expected = blend(window_to_gray(image, 50.0, 100.0), overlay_rgba(heat, style, True))
    assert np.array_equal(out[:16], expected)
    assert len(set(out[6, 6])) > 1 and len(set(out[12, 12])) == 1  # colour on the map only


def test_frames_keep_the_physical_aspect():
    from viewer.modules.workspace.motion import CAPTION_PX, Frame, render_frame

    out = render_frame(Frame(np.zeros((10, 20), np.float32), None, ""), (0, 1), None,
                       (3.0, 1.0), min_side=60)
    assert out.shape[:2] == (90 + CAPTION_PX, 60)  # 30 mm high, 20 mm wide; 60 px the short side


def test_cine_of_the_native_view_with_overlay_as_mp4_and_gif(qtbot, window, ct_folder, tmp_path):
    from viewer.core.overlay import OverlayStyle

    open_and_wait(qtbot, window, [ct_folder])
    ws = window.modules["workspace"]
    vol = window.state.volume
    heat = np.zeros(vol.shape, np.float32)
    heat[:, 5:15, 5:30] = 1.0
    ws.set_overlay_volume(heat, OverlayStyle("jet", 0.8, 0.1))
    motion = ws.exports.motion
    assert motion.cine_axis() == "native"
    mp4 = motion.movie_job(tmp_path / "c.mp4")(_Ctx())
    assert movie_frames(mp4) == vol.n_slices == 12
    ws.exports.background("Writing movie", motion.movie_job(tmp_path / "c.gif", fps=4))
    qtbot.waitUntil(lambda: (tmp_path / "c.gif").exists() and not window.runner.is_running(
        "export"), timeout=30000)
    import imageio.v3 as iio

    frames = iio.imread(tmp_path / "c.gif", index=None, plugin="pillow")
    assert frames.shape[0] == 12
    rgb = frames[0][..., :3].astype(int)
    assert (np.abs(rgb[..., 0] - rgb[..., 2]) > 40).any()  # the map is in the frames


def test_cine_of_a_plane_view_has_one_frame_per_plane_position(qtbot, window, ct_folder,
                                                              tmp_path):
    open_and_wait(qtbot, window, [ct_folder])
    ws = window.modules["workspace"]
    ws.layouts.set_layout("2x2")
    ws.layouts.set_active("coronal")
    motion = ws.exports.motion
    assert motion.cine_axis() == "coronal"
    gif = motion.movie_job(tmp_path / "p.gif")(_Ctx())
    assert movie_frames(gif) == ws.nav.planes["coronal"].depths == 28


def test_cine_over_time_of_a_4d_series(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, [shared_path("multiframe", "siemens_xa10")])
    motion = window.modules["workspace"].exports.motion
    assert motion.cine_axis() == "time"
    assert movie_frames(motion.movie_job(tmp_path / "t.mp4")(_Ctx())) == 4


def test_pdf_of_the_view_and_of_a_montage(qtbot, window, ct_folder, tmp_path):
    from pypdf import PdfReader

    open_and_wait(qtbot, window, [ct_folder])
    motion = window.modules["workspace"].exports.motion
    view = motion.view_pdf_job(tmp_path / "v.pdf")(_Ctx())
    reader = PdfReader(str(view))
    assert len(reader.pages) == 1
    assert "Phantom CT" in reader.pages[0].extract_text()
    montage = motion.montage_pdf_job(tmp_path / "m.pdf")(_Ctx())
    reader = PdfReader(str(montage))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Slices 1 to 12 of 12" in text
    assert reader.pages[0].images  # the picture is embedded


def test_print_pdf_writes_one_page_per_picture(tmp_path):
    from pypdf import PdfReader

    from viewer.modules.workspace.print_pdf import Page, write_pdf

    pages = [Page(np.zeros((40, 90, 3), np.uint8), "wide"), Page(np.zeros((90, 40, 3), np.uint8))]
    reader = PdfReader(str(write_pdf(pages, tmp_path / "x.pdf")))
    assert len(reader.pages) == 2
    first, second = (p.mediabox for p in reader.pages)
    assert first.width > first.height and second.width < second.height  # landscape, portrait
