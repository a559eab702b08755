"""The demo app of notebook 04: says hello and how much data it ships with."""
import os
import platform

print(f"hello from {platform.node()}: {os.path.getsize('/app/data.bin') // 1_000_000} MB of data")
