// `npm test` runs every package's suite in one Jest process (two workers on two cores).
module.exports = { projects: ['<rootDir>/packages/*'], maxWorkers: 2 };
