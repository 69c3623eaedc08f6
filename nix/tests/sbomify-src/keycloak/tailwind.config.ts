// Fixture: the theme build reads this config.
export default { content: [] }
