"""edgedeblur.degrade"""
