//! corepack: bundles of minimized BTF for fleets of mixed kernels.
