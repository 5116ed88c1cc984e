// The module chart-layouts-plugin.ts generates when the page is built.
declare module 'virtual:chart-layouts' {
  const layouts: import('./chart-layout.js').ChartLayouts;
  export default layouts;
}
