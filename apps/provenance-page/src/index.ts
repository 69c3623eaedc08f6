export type { Fact, MissingFact } from './facts.js';
export { buildPageModel, type PageModel } from './page-model.js';
export type { PageSummaryFile } from './page-summary.js';
export { type RenderPageOptions, type RenderPageResult, renderPage } from './render-page.js';
export { writeSiteIndex } from './site-index.js';
