"""The one way trimdock reaches the Docker Engine (image sources and host commands alike)."""
