//! Users: who someone is, and whose card another member may see.
//!
//! Users come from the organisation file (`import`), or from the organisation's directory on
//! their first sign-in (`directory_user`). A card is seen
//! by its owner and by whoever shares a site with them: to anyone else, the user does not exist.

use copresence_core::{UserCard, UserId};

use sqlx::Row;

use super::{user_columns, user_from, Store, StoreError, FRESH, USER_COLUMN_COUNT};

impl Store {
    /// A user's card, if `viewer` may see it: themselves, or someone sharing a site with them.
    pub async fn user_visible_to(
        &self,
        viewer: UserId,
        user: UserId,
    ) -> Result<Option<UserCard>, StoreError> {
        let key = format!("visible:{viewer}:{user}");
        self.cache
            .get(key, FRESH, async {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users u WHERE u.id = $1 AND (u.id = $2 OR EXISTS (
                     SELECT 1 FROM memberships a JOIN memberships b ON a.site_id = b.site_id
                     WHERE a.user_id = $1 AND b.user_id = $2))"
                ))
                .bind(user)
                .bind(viewer)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| user_from(&r, 0)).transpose()?)
            })
            .await
    }

    /// The user with this e-mail, whatever its case.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserCard>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE lower(u.email) = lower($1) ORDER BY u.id LIMIT 1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| user_from(&r, 0)).transpose()?)
    }

    /// The user the directory signed in, or `None` when their e-mail belongs to someone else
    /// here. Created on their first sign-in; a user already known by the e-mail (from the
    /// organisation file) is bound to this sign-in's subject the first time, and refused to any
    /// other subject after; their name, Teams account and photo follow the directory each time.
    pub async fn directory_user(
        &self,
        person: &DirectoryPerson,
    ) -> Result<Option<UserCard>, StoreError> {
        let known = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", u.subject FROM users u WHERE lower(u.email) = lower($1) ORDER BY u.id LIMIT 1"
        ))
        .bind(&person.email)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = known else {
            sqlx::query(
                "INSERT INTO users (email, name, teams, photo, subject, from_directory)
                 VALUES ($1, $2, $3, $4, $5, 1)",
            )
            .bind(&person.email)
            .bind(&person.name)
            .bind(person.teams.clone())
            .bind(person.photo.clone())
            .bind(&person.subject)
            .execute(&self.pool)
            .await?;
            self.forget_cached();
            return self.user_by_email(&person.email).await;
        };
        let card = user_from(&row, 0)?;
        let subject: Option<String> = row.try_get(USER_COLUMN_COUNT)?;
        if subject.as_deref().is_some_and(|s| s != person.subject) {
            return Ok(None);
        }
        let same = subject.is_some()
            && card.name == person.name
            && card.teams == person.teams
            && card.photo == person.photo;
        if same {
            return Ok(Some(card));
        }
        sqlx::query(
            "UPDATE users SET name = $1, teams = $2, photo = $3, subject = $4 WHERE id = $5",
        )
        .bind(&person.name)
        .bind(person.teams.clone())
        .bind(person.photo.clone())
        .bind(&person.subject)
        .bind(card.id)
        .execute(&self.pool)
        .await?;
        // Cards of this user held in memory (members' lists, cards) are now out of date.
        self.forget_cached();
        Ok(Some(UserCard {
            name: person.name.clone(),
            teams: person.teams.clone(),
            photo: person.photo.clone(),
            ..card
        }))
    }
}

/// Who the directory says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPerson {
    /// `"<issuer> <sub>"`: who they are at the provider, for good.
    pub subject: String,
    pub email: String,
    pub name: String,
    pub teams: Option<String>,
    pub photo: Option<String>,
}
