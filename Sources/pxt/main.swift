print("pxt")
