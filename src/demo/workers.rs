//! The demo's render threads on the machine: one kernel thread per worker, each serving tiles
//! from the render farm until the farm is dropped.

use alloc::vec::Vec;

use super::render_farm::{RenderFarm, serve_tiles};
use crate::thread::{self, JoinHandle, KernelThreads};

/// A render farm and the kernel threads that serve it.
pub struct RenderThreads {
    farm: RenderFarm<KernelThreads>,
    threads: Vec<JoinHandle<()>>,
}

impl RenderThreads {
    /// Starts `count` render threads. If some cannot be started, the others serve the farm
    /// (with none, the caller renders every tile), and the reason comes back too.
    pub fn start(count: usize) -> (RenderThreads, Option<thread::Error>) {
        let (mut farm, ends) = RenderFarm::new(count);
        let mut threads = Vec::with_capacity(count);
        let mut failure = None;
        for _ in 0..count {
            let worker_ends = ends.clone();
            match thread::spawn("render", move || serve_tiles(worker_ends)) {
                Ok(handle) => threads.push(handle),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        farm.set_workers(threads.len());
        (RenderThreads { farm, threads }, failure)
    }

    /// The farm, to render frames with.
    pub fn farm(&mut self) -> &mut RenderFarm<KernelThreads> {
        &mut self.farm
    }

    /// Closes the farm and waits for every render thread to end.
    pub fn finish(self) {
        let RenderThreads { farm, threads } = self;
        drop(farm);
        for handle in threads {
            handle.join();
        }
    }
}
