"""edgedeblur.bench"""
