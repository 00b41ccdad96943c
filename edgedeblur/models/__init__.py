"""edgedeblur.models"""
