/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.schema.createTable('transfers', (t) => {
    t.increments('id')
    t.string('from_owner').notNullable()
    t.string('to_owner').notNullable()
    t.integer('amount').notNullable()
  })
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTable('transfers')
}
