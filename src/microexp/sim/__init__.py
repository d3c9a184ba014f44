"""microexp.sim — synthetic faces performing AUs, seen by simulated DAVIS346 / EVK4 / webcam.

Modules (import what you need; nothing heavy is imported here):

- ``au_motion``: :class:`FaceParams`, per-AU displacements (``AU_DELTAS``), onset–apex–offset
  :class:`ActionProfile` and :func:`random_profile` (micro 170–500 ms, posed 1.2–3.2 s).
- ``subject``: :class:`Subject` drawn from (id, seed); :func:`face_region_boxes` per camera.
- ``face``: :class:`FaceRenderer` — procedural anti-aliased face, float32 linear image.
- ``scene``: :class:`Scene` timeline (actions, blinks, head sway, lighting, sync flashes).
- ``event_camera``: :class:`EventCameraModel` (ESIM/v2e-style, vectorised numpy).
- ``sensors``: :class:`SensorProfile`, ``davis346()``, ``evk4()``, ``webcam()``, ``rig_profiles``.
- ``camera_sim``: :class:`CameraSimulator` — streams one camera over a scene in chunks.
- ``session``: :func:`simulate_session` — the protocol engine on a fake clock + the subject.
- ``driver_output``: chunks -> the drivers' messages (CDR bytes).
- ``bag``: :func:`write_session_bag` — a whole session into an MCAP bag.
- ``live``: :class:`LiveCamera` — clock-paced camera (the ROS ``sim_camera`` node's core).
- ``preview``: :func:`render_apex_grid`, :func:`plot_event_rate`.
"""
