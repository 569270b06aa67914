"""The page's views, one class per view behind one protocol (views/protocol.py: `View`, and the
`ViewContext` each is given), and their registry (`VIEWS`, the first the default).

A view named N has its tab `#view-N` and its panel `#N-panel` in site/index.html. The views' switch
(py/viewer.py) hands each picture or feed frame to the active one, and tells every view when the
backend or a model card changes; the app's other parts find a view by what it does (its `roles`),
not by its name. A new view is one module here, one entry in VIEWS and one panel in the page.
"""

from views.batch import BatchView
from views.mask import MaskView
from views.protocol import View, ViewContext
from views.style import StyleView

__all__ = ["VIEWS", "View", "ViewContext"]

VIEWS: dict[str, type[View]] = {view.name: view for view in (MaskView, StyleView, BatchView)}
