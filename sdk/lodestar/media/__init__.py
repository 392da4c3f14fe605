"""Rich values to log: images, histograms, audio, video, HTML, 3-D, tables.

Each type encodes its input when it is made and needs the ``media`` extra
(numpy, Pillow, pandas, matplotlib) only for the inputs that need it.
"""

from .audio import Audio
from .chart import Chart
from .histogram import Histogram
from .html import Html
from .image import Image
from .object3d import Object3D
from .table import Table
from .video import Video

__all__ = ["Audio", "Chart", "Histogram", "Html", "Image", "Object3D", "Table",
           "Video"]
