"""edgedeblur.classical"""
