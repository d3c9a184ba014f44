"""rosbag2 I/O without ROS: typestore, streaming reader, writer, message builders, event topics.

- :mod:`~microexp.bagio.typestore` — ``build_typestore(distro=...)``: stock types + drivers' + ours
- :mod:`~microexp.bagio.reader` — ``open_bag(path)`` -> :class:`BagReader` (tolerates messy bags)
- :mod:`~microexp.bagio.writer` — :class:`BagWriter` (MCAP or sqlite3, readable on Humble and Jazzy)
- :mod:`~microexp.bagio.messages` — builders and CDR (de)serialisation of the types we publish
- :mod:`~microexp.bagio.event_topics` — :class:`EventTopicDecoder`, one per event topic
- :mod:`~microexp.bagio.inspect` — ``inspect_bag(path)``, the core of ``microexp inspect``
"""
