"""The plan: one FrameSpec per frame, resolved from a scene. Pure Python, no torch."""

from .describe import describe, describe_terms, frame_records
from .frames import FrameSpec, MotionSettings, Picture, Plan, make_plan, segment_terms

__all__ = ["FrameSpec", "MotionSettings", "Picture", "Plan", "describe", "describe_terms", "frame_records",
           "make_plan", "segment_terms"]
