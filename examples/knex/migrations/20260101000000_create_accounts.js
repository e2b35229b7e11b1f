/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id')
    t.string('owner').notNullable().unique()
    t.integer('balance').notNullable()
  })
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('accounts')
}
