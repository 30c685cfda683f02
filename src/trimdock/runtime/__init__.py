"""Production readiness at run time: `trimdock check` (run the image, observe) and Compose files."""
