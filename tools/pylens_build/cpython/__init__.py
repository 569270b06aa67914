"""The app's pipelines in CPython: py/'s pure steps around networks that onnxruntime runs, in one
process or sharded over Ray Data workers. Nothing here runs in the page."""
