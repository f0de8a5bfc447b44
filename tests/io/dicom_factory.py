"""Small DICOM images written with pydicom (and transcoded by GDCM or Pillow) for pixel tests.

Each writer takes the stored values ``(frames, y, x[, 3])`` and returns the path; what the
file decodes to is decided by pydicom (the oracle), not by the project's code.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, SecondaryCaptureImageStorage, generate_uid

SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def base_dataset(rows: int, cols: int, *, modality: str = "OT",
                 sop_class: str = SecondaryCaptureImageStorage) -> Dataset:
    """A minimal image header (patient, study, series, one position, orientation)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.PatientName, ds.PatientID, ds.Modality = "Test^Pixels", "PIX", modality
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.Rows, ds.Columns = rows, cols
    return ds


def write_image(path: Path, stored: np.ndarray, photometric: str, bits_stored: int,
                **tags: object) -> Path:
    """Uncompressed explicit VR little endian image from stored values ``(y, x[, 3])`` or
    ``(frames, y, x[, 3])`` (frames when ``NumberOfFrames`` is in ``tags``)."""
    colour = photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
    rows, cols = stored.shape[-3:-1] if colour else stored.shape[-2:]
    ds = base_dataset(rows, cols)
    for key, value in tags.items():
        setattr(ds, key, value)
    if stored.dtype.itemsize == 4:  # pydicom's set_pixel_data stops at 16 bits
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, bits_stored, bits_stored - 1
        ds.PixelRepresentation = int(stored.dtype.kind == "i")
        ds.PixelData = stored.astype(stored.dtype.newbyteorder("<")).tobytes()
        ds["PixelData"].VR = "OW"
    else:
        ds.set_pixel_data(stored, photometric, bits_stored, generate_instance_uid=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def radiograph(rows: int = 384, cols: int = 320, seed: int = 0) -> np.ndarray:
    """A 12-bit radiograph-like image (uint16 stored values, dense body, bright background in
    MONOCHROME1 terms: high stored values are dark)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:rows, :cols]
    body = ((yy - rows / 2) / (0.42 * rows)) ** 2 + ((xx - cols / 2) / (0.35 * cols)) ** 2 < 1
    bone = np.abs(xx - cols / 2) < cols * 0.05
    image = np.full((rows, cols), 3900.0)
    image[body] = 1800.0
    image[body & bone] = 600.0
    image += rng.normal(0, 30, image.shape)
    return np.clip(np.rint(image), 0, 4095).astype(np.uint16)


def write_jpeg_ybr(path: Path, rgb: np.ndarray, subsampling: int = 1, quality: int = 95,
                   photometric: str = "YBR_FULL_422") -> Path:
    """An 8-bit RGB image ``(y, x, 3)`` as a JPEG baseline (Pillow, YCbCr; subsampling 1 = 4:2:2,
    0 = 4:4:4) in a DICOM file with the given photometric interpretation."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    ds = base_dataset(*rgb.shape[:2])
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, photometric, 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def transcode_gdcm(src: Path, dst: Path, syntax: str) -> Path:
    """Re-encode ``src`` with GDCM: ``syntax`` one of 'jpeg-lossless', 'jpeg-ls', 'rle',
    'j2k'."""
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(src))
    if not reader.Read():
        raise RuntimeError(f"GDCM cannot read {src}")
    change = gdcm.ImageChangeTransferSyntax()
    uid = {"jpeg-lossless": gdcm.TransferSyntax.JPEGLosslessProcess14_1,
           "jpeg-ls": gdcm.TransferSyntax.JPEGLSLossless,
           "rle": gdcm.TransferSyntax.RLELossless,
           "j2k": gdcm.TransferSyntax.JPEG2000Lossless}[syntax]
    change.SetTransferSyntax(gdcm.TransferSyntax(uid))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError(f"GDCM cannot encode {src} as {syntax}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(dst))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError(f"GDCM cannot write {dst}")
    return dst


def write_segmentation(path: Path, masks: np.ndarray) -> Path:
    """A binary DICOM SEG-like object: ``masks`` ``(frames, y, x)`` of 0/1, BitsAllocated 1,
    one frame per slice 2 mm apart."""
    frames, rows, cols = masks.shape
    ds = base_dataset(rows, cols, modality="SEG", sop_class=SEGMENTATION_STORAGE)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.NumberOfFrames = frames
    ds.SegmentationType = "BINARY"
    del ds.ImagePositionPatient
    per_frame = []
    for k in range(frames):
        item, plane = Dataset(), Dataset()
        plane.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        item.PlanePositionSequence = [plane]
        per_frame.append(item)
    shared, orient = Dataset(), Dataset()
    orient.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    shared.PlaneOrientationSequence = [orient]
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.SharedFunctionalGroupsSequence = [shared]
    ds.PixelData = pydicom.pixels.pack_bits(masks.astype(np.uint8))
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path
