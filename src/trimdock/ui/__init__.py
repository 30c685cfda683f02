"""`trimdock explore`: the layers and the file tree at any layer, in the terminal (Textual)."""
