"""edgedeblur.nas"""
