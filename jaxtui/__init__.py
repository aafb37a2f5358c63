"""jaxtui: explore JAX in the terminal.

Importing the package imports neither jax nor textual: the UI and the kernel each import
only what their side needs.
"""

__version__ = "0.1.0"
