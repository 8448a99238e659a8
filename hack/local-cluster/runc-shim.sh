#!/bin/sh
# containerd runs this instead of runc. Some virtual machines refuse a negative
# oom_score_adj even to root, and the kubelet asks for one (-998 for the pod sandbox,
# -997 for Guaranteed pods); runc then fails with "can't get final child's PID from
# pipe: EOF". Clamping the value to 0 in the bundle's config.json lets every pod start.
bundle=""
prev=""
for arg in "$@"; do
	case "$arg" in
	--bundle=*) bundle=${arg#--bundle=} ;;
	*) if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then bundle=$arg; fi ;;
	esac
	prev=$arg
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
	sed -i -E 's/"oomScoreAdj": ?-[0-9]+/"oomScoreAdj":0/' "$bundle/config.json"
fi
exec /usr/sbin/runc "$@"
