"""Layer analysis: applying layers, exact waste with blame, dive's metrics, time travel."""
