"""edgedeblur.runtime"""
