// Entry point of the kernels that run one invocation per item (an element, a row, a (row, head), ...),
// in workgroups of WG with no workgroup memory or barriers. The grid is grid1d's (kernel.ts): split over
// x and y past 65535 workgroups, so invocations past the last item do nothing.
// Expects from its companion: fn item_count() -> u32, the number of items, and fn item(i: u32), the work
// of item i. Bindings and params are the companion's. WG has no default: the kernel's constants give it
// (the workgroup size its grid1d call assumes), so a kernel that forgets it fails to build its pipeline.

override WG: u32;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < item_count()) {
    item(i);
  }
}
