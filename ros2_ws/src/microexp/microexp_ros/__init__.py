"""Thin rclpy adapters over the ROS-free microexp core."""
