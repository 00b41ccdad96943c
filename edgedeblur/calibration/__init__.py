"""edgedeblur.calibration"""
