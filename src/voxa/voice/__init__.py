"""Voice: the LiveKit worker, its jobs and the offline speech engines. The only
package that imports the ``livekit.agents`` worker APIs."""
