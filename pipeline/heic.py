"""HEIC and HEIF images (iPhone photos) opened by Pillow, through pillow-heif's opener.

Pillow reads no HEIC by itself; ``pillow_heif.register_heif_opener`` adds the format to ``PIL.Image.open``
process-wide. Every place that opens a received image calls :func:`register_heic` first: intake (sizes in a
message), the readers, and the review desk (the page images staff compare with the fields).
"""

from __future__ import annotations

from functools import cache


@cache
def register_heic() -> bool:
    """Let ``PIL.Image.open`` read HEIC and HEIF files in this process (once; later calls cost nothing).

    Returns:
        True when pillow-heif is installed and its opener registered; False when it is missing (a HEIC file then
        fails to open as an unidentified image).
    """
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        return False
    register_heif_opener()
    return True
