//! Rendering a frame with several threads: the frame is cut into tiles, the tiles go out
//! through a channel to worker threads, and the rendered tiles come back through another.
//! The workers take tiles as they become free, so a slow tile (a shadowed corner) does not
//! hold the others up.
//!
//! Written against the `Blocking` seam: the kernel's threads run it, and the host tests run
//! it on `std` threads.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::scene::{FrameStatistics, PACKET_WIDTH, Scene, Viewport};
use crate::console::ScreenChar;
use crate::sync::blocking::Blocking;
use crate::sync::channel::{Receiver, Sender, channel};

/// Pixel frames are cut into this many columns of tiles...
pub const TILE_COLUMNS: usize = 4;
/// ...and this many rows: 32 tiles, enough for four workers to share evenly.
pub const TILE_ROWS: usize = 8;
/// The most tiles a frame has in flight: a pixel frame's 32, or a text frame's rows (at most
/// `MAX_ROWS`, 75). Both channels hold this many, so sending a frame's tiles never blocks.
const MAXIMUM_TILES: usize = 80;

/// A rectangle of a frame, in pixels or cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// The tiles of a `width` x `height` pixel frame: `TILE_COLUMNS` x `TILE_ROWS` of them (fewer
/// if the frame is smaller), every pixel in exactly one, their left edges on multiples of
/// `PACKET_WIDTH` so four-ray packets do not straddle two tiles.
pub fn pixel_tiles(width: usize, height: usize) -> Vec<Tile> {
    let packets = width.div_ceil(PACKET_WIDTH);
    let columns = TILE_COLUMNS.min(packets).max(1);
    let rows = TILE_ROWS.min(height).max(1);
    let column_edge = |column: usize| (packets * column / columns * PACKET_WIDTH).min(width);
    let row_edge = |row: usize| height * row / rows;
    let mut tiles = Vec::with_capacity(columns * rows);
    for row in 0..rows {
        for column in 0..columns {
            let (left, top) = (column_edge(column), row_edge(row));
            let (right, bottom) = (column_edge(column + 1), row_edge(row + 1));
            if right > left && bottom > top {
                tiles.push(Tile { x: left, y: top, width: right - left, height: bottom - top });
            }
        }
    }
    tiles
}

/// How each pixel's rays are traced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marcher {
    /// One ray at a time.
    Scalar,
    /// Four neighbouring rays at once on SSE lanes.
    Packets,
}

/// What a tile is rendered as.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// 0xRRGGBB pixels of a frame `viewport` describes (built with `Viewport::pixels`).
    Pixels { viewport: Viewport, marcher: Marcher },
    /// Text cells of `viewport`.
    Cells { viewport: Viewport },
}

/// A rendered tile's contents, row by row.
enum TileOutput {
    Colors(Vec<u32>),
    Cells(Vec<ScreenChar>),
}

/// One tile to render, and the buffer to render it into.
pub struct TileJob {
    scene: Arc<Scene>,
    work: Work,
    tile: Tile,
    output: TileOutput,
}

/// A tile a worker rendered.
pub struct RenderedTile {
    tile: Tile,
    output: TileOutput,
    statistics: FrameStatistics,
}

impl TileJob {
    fn render(self) -> RenderedTile {
        let TileJob { scene, work, tile, output } = self;
        let mut statistics = FrameStatistics::default();
        let output = match (work, output) {
            (Work::Pixels { viewport, marcher }, TileOutput::Colors(mut colors)) => {
                colors.clear();
                for y in tile.y..tile.y + tile.height {
                    let end = tile.x + tile.width;
                    match marcher {
                        Marcher::Scalar => colors.extend(
                            (tile.x..end)
                                .map(|x| scene.render_pixel(x, y, &viewport, &mut statistics)),
                        ),
                        Marcher::Packets => {
                            for x in (tile.x..end).step_by(PACKET_WIDTH) {
                                let packet = scene.render_packet(x, y, &viewport, &mut statistics);
                                colors.extend_from_slice(&packet[..(end - x).min(PACKET_WIDTH)]);
                            }
                        }
                    }
                }
                TileOutput::Colors(colors)
            }
            (Work::Cells { viewport }, output) => {
                let mut cells = match output {
                    TileOutput::Cells(cells) => cells,
                    TileOutput::Colors(_) => Vec::new(),
                };
                cells.clear();
                for row in tile.y..tile.y + tile.height {
                    cells.extend(
                        (tile.x..tile.x + tile.width).map(|column| {
                            scene.render_cell(column, row, &viewport, &mut statistics)
                        }),
                    );
                }
                TileOutput::Cells(cells)
            }
            (Work::Pixels { .. }, TileOutput::Cells(_)) => {
                return TileJob { scene, work, tile, output: TileOutput::Colors(Vec::new()) }
                    .render();
            }
        };
        RenderedTile { tile, output, statistics }
    }
}

/// A worker's ends of the farm's two channels.
pub struct WorkerEnds<B: Blocking> {
    jobs: Receiver<TileJob, B>,
    rendered: Sender<RenderedTile, B>,
}

impl<B: Blocking> Clone for WorkerEnds<B> {
    fn clone(&self) -> Self {
        WorkerEnds { jobs: self.jobs.clone(), rendered: self.rendered.clone() }
    }
}

/// A worker thread's body: renders tiles until the farm is dropped.
pub fn serve_tiles<B: Blocking>(ends: WorkerEnds<B>) {
    while let Ok(job) = ends.jobs.recv() {
        if ends.rendered.send(job.render()).is_err() {
            break;
        }
    }
}

/// A 0xRRGGBB image, row after row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    width: usize,
    height: usize,
    pixels: Vec<u32>,
}

impl Image {
    /// A black image of `width` x `height`.
    pub fn new(width: usize, height: usize) -> Image {
        Image { width, height, pixels: vec![0; width * height] }
    }

    /// An image of `width` x `height` with `pixels`, row after row.
    pub fn from_pixels(width: usize, height: usize, pixels: Vec<u32>) -> Image {
        assert_eq!(pixels.len(), width * height, "pixels for a {width}x{height} image");
        Image { width, height, pixels }
    }

    /// Makes the image `width` x `height` (the pixels are then to be redrawn).
    pub fn resize(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.pixels.resize(width * height, 0);
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Row `y`'s pixels.
    pub fn row(&self, y: usize) -> &[u32] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }

    /// The pixel at `x`, `y`.
    pub fn pixel(&self, x: usize, y: usize) -> u32 {
        self.pixels[y * self.width + x]
    }
}

/// The coordinator's side: sends a frame's tiles to the workers and gathers them. With no
/// workers (or if they are gone) it renders the tiles itself.
pub struct RenderFarm<B: Blocking> {
    jobs: Sender<TileJob, B>,
    rendered: Receiver<RenderedTile, B>,
    workers: usize,
    /// Tile buffers that came back, for the next frame's tiles.
    spare: Vec<TileOutput>,
}

impl<B: Blocking> RenderFarm<B> {
    /// A farm for `workers` worker threads, and the ends to give each of them (clone one per
    /// worker, and run `serve_tiles` on it). With 0 workers, the caller renders every tile.
    pub fn new(workers: usize) -> (RenderFarm<B>, WorkerEnds<B>) {
        let (job_sender, job_receiver) = channel(MAXIMUM_TILES);
        let (rendered_sender, rendered_receiver) = channel(MAXIMUM_TILES);
        let farm = RenderFarm {
            jobs: job_sender,
            rendered: rendered_receiver,
            workers,
            spare: Vec::new(),
        };
        (farm, WorkerEnds { jobs: job_receiver, rendered: rendered_sender })
    }

    /// Says how many workers were started after all (0: the caller renders every tile).
    pub fn set_workers(&mut self, workers: usize) {
        self.workers = workers;
    }

    /// How many worker threads render (0: the caller does).
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Renders `tiles` of `scene` as `work` says and hands each rendered tile to `take` as it
    /// arrives (in no particular order).
    fn run(
        &mut self,
        scene: &Arc<Scene>,
        work: Work,
        tiles: &[Tile],
        mut take: impl FnMut(&RenderedTile),
    ) -> FrameStatistics {
        let mut statistics = FrameStatistics::default();
        let mut add = |rendered: &RenderedTile| {
            statistics.rays += rendered.statistics.rays;
            statistics.march_steps += rendered.statistics.march_steps;
            statistics.shadow_steps += rendered.statistics.shadow_steps;
        };
        let mut in_flight = 0;
        for &tile in tiles {
            let output = self.spare.pop().unwrap_or(TileOutput::Colors(Vec::new()));
            let job = TileJob { scene: Arc::clone(scene), work, tile, output };
            let job = if self.workers == 0 {
                job
            } else {
                match self.jobs.send(job) {
                    Ok(()) => {
                        in_flight += 1;
                        continue;
                    }
                    // Every worker is gone: render here.
                    Err(error) => error.into_inner(),
                }
            };
            let rendered = job.render();
            add(&rendered);
            take(&rendered);
            self.spare.push(rendered.output);
        }
        for _ in 0..in_flight {
            let Ok(rendered) = self.rendered.recv() else { break };
            add(&rendered);
            take(&rendered);
            self.spare.push(rendered.output);
        }
        statistics
    }

    /// Renders `scene` into every pixel of `image` (its size says how many rays).
    pub fn render_pixels(
        &mut self,
        scene: &Arc<Scene>,
        image: &mut Image,
        marcher: Marcher,
    ) -> FrameStatistics {
        let viewport = Viewport::pixels(image.width, image.height);
        let tiles = pixel_tiles(image.width, image.height);
        let width = image.width;
        self.run(scene, Work::Pixels { viewport, marcher }, &tiles, |rendered| {
            let TileOutput::Colors(colors) = &rendered.output else { return };
            let tile = rendered.tile;
            for (row, source) in colors.chunks_exact(tile.width).enumerate() {
                let start = (tile.y + row) * width + tile.x;
                image.pixels[start..start + tile.width].copy_from_slice(source);
            }
        })
    }

    /// Renders `scene` as `viewport`'s text cells, one tile per row, handing each row to
    /// `take_row` (row number, cells) as it arrives.
    pub fn render_cells(
        &mut self,
        scene: &Arc<Scene>,
        viewport: &Viewport,
        mut take_row: impl FnMut(usize, &[ScreenChar]),
    ) -> FrameStatistics {
        let tiles: Vec<Tile> = (0..viewport.rows)
            .map(|row| Tile { x: 0, y: row, width: viewport.columns, height: 1 })
            .collect();
        self.run(scene, Work::Cells { viewport: *viewport }, &tiles, |rendered| {
            if let TileOutput::Cells(cells) = &rendered.output {
                take_row(rendered.tile.y, cells);
            }
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::console::ColorCode;
    use crate::sync::std_blocking::StdBlocking;

    const BLANK: ScreenChar = ScreenChar::new(0, ColorCode::from_attribute(0));

    #[test]
    fn tiles_cover_every_pixel_exactly_once() {
        for (width, height) in
            [(128, 96), (1024, 768), (150, 97), (5, 3), (1, 1), (3, 40), (640, 7)]
        {
            let mut covered = vec![0u8; width * height];
            let tiles = pixel_tiles(width, height);
            assert!(tiles.len() <= TILE_COLUMNS * TILE_ROWS);
            for tile in &tiles {
                assert_eq!(tile.x % PACKET_WIDTH, 0, "{tile:?}");
                for y in tile.y..tile.y + tile.height {
                    for x in tile.x..tile.x + tile.width {
                        covered[y * width + x] += 1;
                    }
                }
            }
            assert!(covered.iter().all(|&count| count == 1), "{width}x{height}: {tiles:?}");
        }
        assert_eq!(pixel_tiles(1024, 768).len(), 32);
    }

    /// A farm with `workers` std threads, run on `body`, then closed and joined.
    fn with_farm<R>(workers: usize, body: impl FnOnce(&mut RenderFarm<StdBlocking>) -> R) -> R {
        let (mut farm, ends) = RenderFarm::<StdBlocking>::new(workers);
        let threads: Vec<_> = (0..workers)
            .map(|_| {
                let ends = ends.clone();
                std::thread::spawn(move || serve_tiles(ends))
            })
            .collect();
        drop(ends);
        let result = body(&mut farm);
        drop(farm);
        for thread in threads {
            thread.join().unwrap();
        }
        result
    }

    #[test]
    fn workers_render_the_image_one_thread_renders() {
        let scene = Arc::new(Scene::at(2.5));
        let render = |workers: usize, marcher: Marcher| {
            with_farm(workers, |farm| {
                let mut image = Image::new(90, 60);
                let statistics = farm.render_pixels(&scene, &mut image, marcher);
                // A second frame reuses the tile buffers.
                farm.render_pixels(&scene, &mut image, marcher);
                (image, statistics)
            })
        };
        let (alone, statistics) = render(0, Marcher::Scalar);
        assert_eq!(statistics.rays, 90 * 60);
        let lit = (0..60).flat_map(|y| alone.row(y).to_vec()).filter(|&pixel| pixel != 0).count();
        assert!(lit > 90 * 60 / 2, "only {lit} pixels drawn");
        let (shared, shared_statistics) = render(3, Marcher::Scalar);
        assert_eq!(shared, alone);
        assert_eq!(shared_statistics, statistics);
        let (packets, packet_statistics) = render(3, Marcher::Packets);
        assert_eq!(packet_statistics.rays, 90 * 60);
        let differing = (0..60)
            .flat_map(|y| (0..90).map(move |x| (x, y)))
            .filter(|&(x, y)| packets.pixel(x, y) != alone.pixel(x, y))
            .count();
        assert!(differing < 90 * 60 / 20, "{differing} pixels differ between the marchers");
    }

    #[test]
    fn workers_render_the_text_frame_row_by_row() {
        let scene = Arc::new(Scene::at(1.0));
        let viewport = Viewport::VGA_TEXT;
        let mut expected = Vec::new();
        for row in 0..viewport.rows {
            for column in 0..viewport.columns {
                expected.push(scene.render_cell(column, row, &viewport, &mut Default::default()));
            }
        }
        for workers in [0, 1, 2] {
            let mut cells = vec![BLANK; 80 * 25];
            let mut rows_seen = vec![0; 25];
            let statistics = with_farm(workers, |farm| {
                farm.render_cells(&scene, &viewport, |row, row_cells| {
                    rows_seen[row] += 1;
                    cells[row * 80..(row + 1) * 80].copy_from_slice(row_cells);
                })
            });
            assert!(rows_seen.iter().all(|&count| count == 1), "{rows_seen:?}");
            assert_eq!(cells, expected, "{workers} workers");
            assert_eq!(statistics.rays, 2000);
        }
    }
}
