"""edgedeblur.metrics"""
